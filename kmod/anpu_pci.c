// SPDX-License-Identifier: GPL-2.0-only
/*
 * anpu.ko bus glue for the virtual platform: the ANPU behind QEMU's
 * ivshmem-doorbell device (1af4:1110). BAR0 holds ivshmem's registers
 * (Doorbell), BAR2 the ANPU (register page + device memory); MSI-X vector i
 * is ANPU interrupt i. Other ivshmem devices (no ANPU magic) are left alone.
 */

#include <linux/log2.h>
#include <linux/pci.h>

#include "anpu_drv.h"

#define PCI_VENDOR_ID_IVSHMEM		PCI_VENDOR_ID_REDHAT_QUMRANET
#define PCI_DEVICE_ID_IVSHMEM		0x1110
#define IVSHMEM_BAR_REGS		0
#define IVSHMEM_BAR_SHM			2

static const struct {
	unsigned int vector;
	irq_handler_t handler;
	irq_handler_t thread;
	const char *name;
} anpu_irqs[] = {
	{ ANPU_IRQ_JOB, anpu_hw_irq_job, anpu_hw_irq_job_thread, "anpu-job" },
	{ ANPU_IRQ_ERROR, anpu_hw_irq_error, NULL, "anpu-error" },
	{ ANPU_IRQ_CTRL, anpu_hw_irq_ctrl, NULL, "anpu-ctrl" },
};

static int anpu_pci_setup_irqs(struct pci_dev *pdev, struct anpu_device *adev)
{
	int ret;

	/* managed: released with the device (pcim_enable_device) */
	ret = pci_alloc_irq_vectors(pdev, ANPU_HW_NUM_VECTORS, ANPU_HW_NUM_VECTORS,
				    PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(&pdev->dev, "cannot get %u MSI-X vectors: %d\n",
			ANPU_HW_NUM_VECTORS, ret);
		return ret;
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(anpu_irqs); i++) {
		ret = devm_request_threaded_irq(&pdev->dev,
						pci_irq_vector(pdev, anpu_irqs[i].vector),
						anpu_irqs[i].handler, anpu_irqs[i].thread,
						0, anpu_irqs[i].name, &adev->hw);
		if (ret)
			return ret;
	}
	return 0;
}

static int anpu_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	resource_size_t bar_start, bar_size;
	void __iomem *db, *regs, *karea;
	struct anpu_device *adev;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	bar_start = pci_resource_start(pdev, IVSHMEM_BAR_SHM);
	bar_size = pci_resource_len(pdev, IVSHMEM_BAR_SHM);
	if (bar_size < ANPU_BAR_MIN_SIZE || bar_size > ANPU_BAR_MAX_SIZE ||
	    !is_power_of_2(bar_size)) {
		dev_info(&pdev->dev, "not an ANPU (BAR2 of %pa bytes)\n", &bar_size);
		return -ENODEV;
	}

	db = pcim_iomap_region(pdev, IVSHMEM_BAR_REGS, ANPU_DRIVER_NAME);
	if (IS_ERR(db))
		return PTR_ERR(db);
	ret = pcim_request_region(pdev, IVSHMEM_BAR_SHM, ANPU_DRIVER_NAME);
	if (ret)
		return ret;
	/* registers uncached; device memory (the rest of BAR2) write-combined */
	regs = pcim_iomap_range(pdev, IVSHMEM_BAR_SHM, 0, ANPU_REG_PAGE_SIZE);
	if (IS_ERR(regs))
		return PTR_ERR(regs);
	karea = devm_ioremap_wc(&pdev->dev, bar_start + ANPU_DEVMEM_BASE,
				bar_size - ANPU_DEVMEM_BASE);
	if (!karea)
		return -ENOMEM;

	adev = anpu_device_alloc(&pdev->dev);
	if (IS_ERR(adev))
		return PTR_ERR(adev);
	pci_set_drvdata(pdev, adev);
	adev->devmem_phys = bar_start + ANPU_DEVMEM_BASE;

	ret = anpu_hw_probe(&adev->hw, &pdev->dev, db, regs, karea, bar_size);
	if (ret)
		return ret;

	/* MSI-X messages are bus-master writes */
	pci_set_master(pdev);
	ret = anpu_pci_setup_irqs(pdev, adev);
	if (ret)
		return ret;

	return anpu_device_register(adev);
}

static void anpu_pci_remove(struct pci_dev *pdev)
{
	anpu_device_unregister(pci_get_drvdata(pdev));
}

static const struct pci_device_id anpu_pci_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_IVSHMEM, PCI_DEVICE_ID_IVSHMEM) },
	{ }
};
MODULE_DEVICE_TABLE(pci, anpu_pci_ids);

static struct pci_driver anpu_pci_driver = {
	.name = ANPU_DRIVER_NAME,
	.id_table = anpu_pci_ids,
	.probe = anpu_pci_probe,
	.remove = anpu_pci_remove,
	.driver.pm = pm_ptr(&anpu_pm_ops),
};

int anpu_pci_register(void)
{
	return pci_register_driver(&anpu_pci_driver);
}

void anpu_pci_unregister(void)
{
	pci_unregister_driver(&anpu_pci_driver);
}
